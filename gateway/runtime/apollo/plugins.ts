/**
 * gateway/runtime's operation limits and scopes as Apollo Server plugins.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { Logger } from '../../../common/logger';
import { metrics } from '../../../common/metrics/series';
import type { GatewayContext } from '../context';
import { cutShortAnswer, type OperationLimits } from '../limits/operation-limits';
import { scopeRefusal } from '../scopes';

/** The cost estimate once the operation is resolved; a request cut short by its budget answers one error. */
export function limitsPlugin(limits: OperationLimits, log: Logger): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ contextValue }) {
      log.debug({ requestId: contextValue.requestId, clientRequestId: contextValue.clientRequestId, subject: contextValue.identity.subject }, 'graphql request');
      return {
        async didResolveOperation({ document, operation, request, schema }) {
          if (!operation) return;
          const refusal = limits.costRefusal({ schema, document, operation, variables: request.variables });
          if (refusal) throw refusal;
        },
        async didEncounterErrors({ errors, contextValue: ctx }) {
          const codes = errors.map((e) => e.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
          log.debug({ requestId: ctx.requestId, clientRequestId: ctx.clientRequestId, codes }, 'graphql request refused or partly failed');
        },
        async willSendResponse({ contextValue: ctx, response }) {
          ctx.budget.settle();
          const cut = cutShortAnswer(ctx.budget);
          if (!cut) return metrics.graphqlErrors(response.body.kind === 'single' ? response.body.singleResult.errors : undefined);
          log.warn({ requestId: ctx.requestId, clientRequestId: ctx.clientRequestId, reason: ctx.budget.ended }, 'request cut short');
          response.body = { kind: 'single', singleResult: { data: null, errors: [{ message: cut.error.message, extensions: cut.error.extensions }] } };
          response.http.status = cut.status;
          metrics.graphqlErrors([cut.error]);
        },
      };
    },
  };
}

export const scopePlugin: ApolloServerPlugin<GatewayContext> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation, contextValue }) {
        if (!operation) return;
        const refusal = scopeRefusal(operation, contextValue.principal);
        if (refusal) throw refusal;
      },
    };
  },
};
