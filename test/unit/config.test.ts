import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULTS, resolveConfig } from '../../src/config.js';
import { parseDuration, parseSize } from '../../src/shared/units.js';

describe('resolveConfig', () => {
  it('uses the documented defaults', () => {
    const c = resolveConfig();
    expect(c).toMatchObject({ port: 8700, host: '127.0.0.1', db: './asyncqueue.db', concurrency: 100, tokens: [], signingSecret: null, maxBody: 1048576, maxResult: 1048576, retention: 7 * 86400000, logLevel: 'info', durability: 'full', shutdownGrace: 30000 });
    expect(Object.isFrozen(c)).toBe(true);
    expect(DEFAULTS.port).toBe(8700);
  });

  it('takes a flag over its AQ_* variable over the default', () => {
    const env = { AQ_PORT: '9000', AQ_CONCURRENCY: '7', AQ_TOKEN: 'a,b', AQ_RETENTION: '2h', AQ_MAX_BODY: '64kb', AQ_DURABILITY: 'normal' };
    const c = resolveConfig({ flags: { port: '9100' }, env });
    expect(c).toMatchObject({ port: 9100, concurrency: 7, tokens: ['a', 'b'], retention: 7_200_000, maxBody: 65536, durability: 'normal' });
    expect(resolveConfig({ env: { AQ_PORT: '' } }).port).toBe(8700);
  });

  it.each([
    [{ port: '70000' }, /--port/],
    [{ concurrency: '0' }, /--concurrency/],
    [{ durability: 'sometimes' }, /--durability/],
    [{ logLevel: 'loud' }, /--log-level/],
    [{ maxBody: 'lots' }, /--max-body/],
    [{ retention: 'forever' }, /--retention/],
    [{ signingSecret: 'plain' }, /--signing-secret/],
    [{ blockPrivateTargets: 'maybe' }, /--block-private-targets/],
  ])('refuses %o naming the flag', (flags, message) => {
    expect(() => resolveConfig({ flags: flags as never })).toThrow(ConfigError);
    expect(() => resolveConfig({ flags: flags as never })).toThrow(message);
  });
});

describe('tokens', () => {
  it.each([[''], [' '], [','], ['a,'], [' ,b'], ['a, ,b']])('a blank token (--token %j) is refused, not read as "no auth"', (token) => {
    expect(() => resolveConfig({ flags: { token } })).toThrow(/--token is empty or has a blank entry/);
  });
  it('AQ_TOKEN set but empty or blank is refused; unset means no auth', () => {
    expect(() => resolveConfig({ env: { AQ_TOKEN: '' } })).toThrow(/AQ_TOKEN is empty/);
    expect(() => resolveConfig({ env: { AQ_TOKEN: '  ' } })).toThrow(/AQ_TOKEN is empty/);
    expect(resolveConfig({ env: {} }).tokens).toEqual([]);
  });
  it('a token with a space inside is refused (a bearer header could never carry it)', () => {
    expect(() => resolveConfig({ flags: { token: 'two words' } })).toThrow(/visible ASCII/);
    expect(resolveConfig({ flags: { token: ' a , b ' } }).tokens).toEqual(['a', 'b']);
  });
});

describe('units', () => {
  it.each([
    ['1mb', 1048576], ['512kb', 524288], ['100', 100], ['2 GB', 2 * 1024 ** 3],
  ])('size %s is %d bytes', (text, bytes) => expect(parseSize(text)).toBe(bytes));
  it.each([
    ['7d', 604800000], ['30s', 30000], ['250ms', 250], ['15m', 900000], ['1h', 3600000], ['45', 45000],
  ])('duration %s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', 'abc', '-1s', '1y'])('refuses %j', (text) => {
    expect(() => parseDuration(text)).toThrow(RangeError);
  });
});

describe('cluster settings (api.md §9)', () => {
  it.each([
    [{}, 15_000],
    [{ nodeTimeout: '2s' }, 2000],
    [{ nodeTimeout: '30' }, 30_000],
    [{ nodeTimeout: '1m' }, 60_000],
  ])('--node-timeout %j is %d ms', (flags, ms) => {
    expect(resolveConfig({ flags }).nodeTimeout).toBe(ms);
  });

  it.each(['0', '0.5s', '2h', 'soon', '-3', '1e9'])('refuses --node-timeout %s, naming the flag', (v) => {
    expect(() => resolveConfig({ flags: { nodeTimeout: v } })).toThrow(ConfigError);
    expect(() => resolveConfig({ flags: { nodeTimeout: v } })).toThrow(/--node-timeout/);
  });

  it('takes --node-name and AQ_NODE_NAME; refuses an empty, too long or control-character name', () => {
    expect(resolveConfig({ env: { AQ_NODE_NAME: 'web 1' } }).nodeName).toBe('web 1');
    expect(resolveConfig().nodeName).toBeNull();
    for (const bad of [' ', 'x'.repeat(101), 'a\nb', 'tab\there']) expect(() => resolveConfig({ flags: { nodeName: bad } })).toThrow(/--node-name/);
  });
});
