/** The docker driver's options, resolved (see EngineOptions.docker for what each means). */
export interface DockerOptions {
  image: string;
  network: 'bridge' | 'host';
  dockerHost: string | undefined;
  storage: 'auto' | 'image' | 'bind';
}
