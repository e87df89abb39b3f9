/** Messages between a process and its spawn helper (spawn-helper.ts, spawn-helper-main.ts), over the IPC channel. */

export type HelperRequest =
  | {
      t: 'spawn';
      id: number;
      file: string;
      args: string[];
      /** stdout and stderr appended to this file (created 0600); ignored when undefined. */
      logFile?: string;
      uid?: number;
      gid?: number;
      detached: boolean;
      env: NodeJS.ProcessEnv;
    }
  | { t: 'exec'; id: number; file: string; args: string[]; timeoutMs: number; env?: NodeJS.ProcessEnv; uid?: number; gid?: number };

export type HelperReply =
  | { t: 'spawned'; id: number; pid: number }
  | { t: 'error'; id: number; message: string; code?: string }
  | { t: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null }
  | { t: 'done'; id: number; stdout: string; stderr: string; failure?: { message: string; code?: string } };
