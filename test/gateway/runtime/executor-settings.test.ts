/**
 * GATEWAY_EXECUTOR and GATEWAY_PLANNER: the supported combinations start, any other is
 * refused at start-up with a sentence saying what to set.
 */
import { readEnv } from '../../../common/config';
import { startExecutor } from '../../../gateway/runtime/executor';

test('apollo, hive and hive+rust are accepted; the default is Hive with the Rust planner', () => {
  expect(readEnv({})).toMatchObject({ GATEWAY_EXECUTOR: 'hive', GATEWAY_PLANNER: 'rust' });
  expect(readEnv({ GATEWAY_EXECUTOR: 'apollo' })).toMatchObject({ GATEWAY_EXECUTOR: 'apollo', GATEWAY_PLANNER: 'js' });
  expect(readEnv({ GATEWAY_EXECUTOR: 'hive' })).toMatchObject({ GATEWAY_EXECUTOR: 'hive', GATEWAY_PLANNER: 'rust' });
  expect(readEnv({ GATEWAY_EXECUTOR: 'hive', GATEWAY_PLANNER: 'js' })).toMatchObject({ GATEWAY_EXECUTOR: 'hive', GATEWAY_PLANNER: 'js' });
  expect(readEnv({ GATEWAY_EXECUTOR: 'hive', GATEWAY_PLANNER: 'rust' })).toMatchObject({ GATEWAY_EXECUTOR: 'hive', GATEWAY_PLANNER: 'rust' });
});

test('the Rust planner without Hive, or an unknown executor, is refused with a clear message', async () => {
  expect(() => readEnv({ GATEWAY_EXECUTOR: 'apollo', GATEWAY_PLANNER: 'rust' })).toThrow(/GATEWAY_PLANNER: rust is Hive Gateway's planner: set GATEWAY_EXECUTOR=hive too/);
  expect(() => readEnv({ GATEWAY_EXECUTOR: 'router' })).toThrow(/GATEWAY_EXECUTOR/);
  expect(() => readEnv({ GATEWAY_EXECUTOR: 'hive', GATEWAY_PLANNER: 'go' })).toThrow(/GATEWAY_PLANNER/);
  // An Env built in code skips readEnv's check: the executor refuses it itself.
  const env = { ...readEnv({}), GATEWAY_EXECUTOR: 'apollo', GATEWAY_PLANNER: 'rust' } as const;
  await expect(startExecutor({ env } as Parameters<typeof startExecutor>[0])).rejects.toThrow(/GATEWAY_PLANNER=rust is Hive Gateway's planner/);
});
