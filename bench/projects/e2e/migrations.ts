// The sync-store schema without its bulk seed: the migrations a typical suite runs before each test
// makes its own rows. Paths are relative to this project.
export const MIGRATIONS = ['001_schema.sql', '002_functions.sql', '004_keys_indexes.sql'].map((f) => `../../../fixtures/recipes/sync-store/${f}`);
