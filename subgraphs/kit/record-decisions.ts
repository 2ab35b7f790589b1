import type { ApolloServerPlugin } from '@apollo/server';
import type { DataSource } from 'typeorm';
import type { Logger } from '../../common/logger';
import type { SubgraphContext } from './context';
import { GroupCommit } from './group-commit';

/**
 * At the end of every request, its consent decisions go to the outbox. Written before
 * the response is sent: a decision that served data is on disk before the data leaves.
 * Concurrent requests share commits (group-commit.ts).
 */
export function recordDecisions(db: DataSource, log: Logger): ApolloServerPlugin<SubgraphContext> {
  const writer = new GroupCommit(db);
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue }) {
          try {
            await contextValue.access.flush(writer);
          } catch (err) {
            log.error({ err }, 'could not record access decisions');
            throw err;
          }
        },
      };
    },
  };
}
