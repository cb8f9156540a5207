import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.js';

describe('configuration', () => {
  it('has working defaults', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      port: 8080,
      databaseUrl: undefined,
      signIn: { freeAttempts: 5, accountAttempts: 50, maxDelayMinutes: 15 },
      bodyLimitBytes: 1048576,
    });
    expect(config.dataDir).toMatch(/\/data$/);
    expect(config.pgliteCompiler).toBe('baseline');
  });

  it('takes the embedded database compiler by name and refuses any other', () => {
    expect(parseConfig({ SIGIL_PGLITE_COMPILER: 'optimizing' }).pgliteCompiler).toBe('optimizing');
    expect(() => parseConfig({ SIGIL_PGLITE_COMPILER: 'turbo' })).toThrow(
      /SIGIL_PGLITE_COMPILER: must be baseline or optimizing/,
    );
  });

  it('lists every problem at once, including unknown SIGIL_ settings', () => {
    try {
      parseConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        SIGIL_MASTER_KEY: 'c2hvcnQ=',
        SIGIL_SESION_TTL_HOURS: '1',
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems;
      expect(problems).toHaveLength(4);
      expect(problems).toContain('SIGIL_SESION_TTL_HOURS: unknown setting');
      expect(problems.join('\n')).toMatch(/PORT/);
      expect(problems.join('\n')).toMatch(/DATABASE_URL: must be a postgres/);
      expect(problems.join('\n')).toMatch(/SIGIL_MASTER_KEY: must be 32 bytes/);
    }
  });
});
