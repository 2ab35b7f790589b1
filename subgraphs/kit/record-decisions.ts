import type { ApolloServerPlugin } from '@apollo/server';
import type { DataSource } from 'typeorm';
import type { Logger } from '../../common/logger';
import { inSpan } from '../../common/tracing';
import type { SubgraphContext } from './context';
import { GroupCommit } from './group-commit';

/**
 * At the end of every request, its consent decisions go to the outbox. Written before
 * the response is sent: a decision that served data is on disk before the data leaves.
 * Concurrent requests share commits (group-commit.ts).
 *
 * Traced as `outbox.write` under the request's span, with the request's decision counts;
 * the rows record that span's traceparent, which the ledger's append span continues.
 */
export function recordDecisions(db: DataSource, log: Logger): ApolloServerPlugin<SubgraphContext> {
  const writer = new GroupCommit(db);
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue }) {
          try {
            const decisions = contextValue.access.decisions();
            if (!decisions.length) return;
            const permit = decisions.filter((d) => d.decision.allowed).length;
            await inSpan(
              'outbox.write',
              { attributes: { 'custodian.outbox.events': decisions.length, 'custodian.consent.permit': permit, 'custodian.consent.deny': decisions.length - permit } },
              () => contextValue.access.flush(writer),
            );
          } catch (err) {
            log.error({ err }, 'could not record access decisions');
            throw err;
          }
        },
      };
    },
  };
}
