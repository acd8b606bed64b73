/** What the Jest global setup prepared for this run (one database, one Redis prefix). */
export function testEnv(): {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  encryptionKeys: string;
} {
  const databaseUrl = process.env.TEST_DATABASE_URL;
  const redisPrefix = process.env.TEST_REDIS_PREFIX;
  const encryptionKeys = process.env.TEST_ENCRYPTION_KEYS;
  if (!databaseUrl || !redisPrefix || !encryptionKeys) {
    throw new Error('Run the tests through Jest so that global setup prepares the database');
  }
  return {
    databaseUrl,
    redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    redisPrefix,
    encryptionKeys,
  };
}
