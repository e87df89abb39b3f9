/** The docker driver's options, resolved (see EngineOptions.docker for what each means). */
export interface DockerOptions {
  image: string;
  network: 'bridge' | 'host';
  dockerHost: string | undefined;
  /** Address of the engine's published ports; undefined: derived from the engine's address (see publishHostFor). */
  publishHost: string | undefined;
  storage: 'auto' | 'image' | 'bind';
}
