import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isAlive, processStartTime } from '../system/proc.js';

/** Who runs `pgbranch serve` on a cache directory: `<cache>/keeper.json`. */
export interface KeeperRecord {
  pid: number;
  startTime?: string;
  startedAt: string;
}

/** One keeper per cache directory and driver: `keeper.json` (local), `keeper-docker.json`. */
const file = (cacheDir: string, driver: string) => path.join(cacheDir, driver === 'local' ? 'keeper.json' : `keeper-${driver}.json`);

/** The live keeper of this cache directory, if one runs. */
export async function readKeeper(cacheDir: string, driver = 'local'): Promise<KeeperRecord | undefined> {
  const record = await readFile(file(cacheDir, driver), 'utf8').then((s) => JSON.parse(s) as KeeperRecord, () => undefined);
  return record && isAlive(record.pid, record.startTime) ? record : undefined;
}

export async function writeKeeper(cacheDir: string, driver = 'local'): Promise<void> {
  const record: KeeperRecord = { pid: process.pid, startTime: processStartTime(process.pid), startedAt: new Date().toISOString() };
  await writeFile(file(cacheDir, driver), JSON.stringify(record), { mode: 0o600 });
}

export async function removeKeeper(cacheDir: string, driver = 'local'): Promise<void> {
  const record = await readFile(file(cacheDir, driver), 'utf8').then((s) => JSON.parse(s) as KeeperRecord, () => undefined);
  if (record?.pid === process.pid) await rm(file(cacheDir, driver), { force: true });
}
