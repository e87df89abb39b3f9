import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isAlive, processStartTime } from '../system/proc.js';

/** Who runs `pgbranch serve` on a cache directory: `<cache>/keeper.json`. */
export interface KeeperRecord {
  pid: number;
  startTime?: string;
  startedAt: string;
}

const file = (cacheDir: string) => path.join(cacheDir, 'keeper.json');

/** The live keeper of this cache directory, if one runs. */
export async function readKeeper(cacheDir: string): Promise<KeeperRecord | undefined> {
  const record = await readFile(file(cacheDir), 'utf8').then((s) => JSON.parse(s) as KeeperRecord, () => undefined);
  return record && isAlive(record.pid, record.startTime) ? record : undefined;
}

export async function writeKeeper(cacheDir: string): Promise<void> {
  const record: KeeperRecord = { pid: process.pid, startTime: processStartTime(process.pid), startedAt: new Date().toISOString() };
  await writeFile(file(cacheDir), JSON.stringify(record), { mode: 0o600 });
}

export async function removeKeeper(cacheDir: string): Promise<void> {
  const record = await readFile(file(cacheDir), 'utf8').then((s) => JSON.parse(s) as KeeperRecord, () => undefined);
  if (record?.pid === process.pid) await rm(file(cacheDir), { force: true });
}
