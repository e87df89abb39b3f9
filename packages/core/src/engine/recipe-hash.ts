import type { Driver } from '../drivers/driver.js';
import { INITDB_ARGS, RUNTIME_ONLY_SETTINGS } from '../snapshot/postgres-settings.js';
import { baseHash, initSource, recipeHash, resolveSqlFiles, type RecipeFile, type SnapshotRecipe } from '../snapshot/recipe.js';

/**
 * A recipe's content hash and its SQL files, on top of the snapshot `parent` (if given) or else the driver's base
 * cluster: nothing is built to compute it.
 */
export async function hashRecipe(driver: Driver, recipe: SnapshotRecipe & { parent?: { hash: string } }): Promise<{ hash: string; files: RecipeFile[] }> {
  const files = await resolveSqlFiles(recipe);
  const hash = await recipeHash({
    parentHash: recipe.parent?.hash ?? baseHashOf(driver),
    settings: dataSettings(driver),
    files,
    hashInputs: recipe.hashInputs ?? [],
    baseDir: recipe.baseDir ?? process.cwd(),
    initSource: recipe.init ? initSource(recipe.init) : undefined,
  });
  return { hash, files };
}

/** The hash of the freshly initialised cluster every recipe starts from: the Postgres build, initdb and settings. */
export function baseHashOf(driver: Driver): string {
  return baseHash(driver.postgresIdentity, INITDB_ARGS, dataSettings(driver));
}

/** Settings that shape what is written, so they belong in snapshot hashes. */
function dataSettings(driver: Driver): Record<string, string> {
  return Object.fromEntries(Object.entries(driver.settings).filter(([k]) => !RUNTIME_ONLY_SETTINGS.has(k)));
}
