/**
 * The static limits, checked while Apollo validates a document — before it is planned,
 * before any subgraph call or access decision — and only once per distinct document
 * (Apollo caches validated documents):
 *
 *  - depth, aliases, directives: graphql-armor's validation rules;
 *  - root fields: graphql-armor has no such rule, so a few lines below;
 *  - subscriptions: refused outright (the hub serves none, and graphql-js 16 would let one
 *    through to the planner, which answered 500).
 *
 * Tokens are counted by graphql-js's own parser (`parseOptions.maxTokens`, see
 * operation-limits.ts), which stops at the limit: graphql-armor's token plugin parses every
 * document a second time, and throws from a hook Apollo Server 5 turns into a 500.
 *
 * Each refusal is our QUERY_TOO_COMPLEX error (errors.ts). graphql-armor reports only a
 * sentence ("… limit of 10 exceeded, found 14."); the measured value is read from it —
 * the versions are pinned, and test/gateway/hostile/operation-limits.test.ts would see a change.
 */
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { Kind, type GraphQLError, type SelectionSetNode, type ValidationContext, type ValidationRule } from 'graphql';
import { subscriptionsNotServed, tooComplex, type LimitName } from './errors';

export interface StaticLimits {
  depth: number;
  aliases: number;
  rootFields: number;
  directives: number;
}

const found = (err: GraphQLError): number | null => {
  const m = /found (\d+)/.exec(err.message);
  return m ? Number(m[1]) : null;
};

/** graphql-armor's callback configuration: report our error instead of theirs. */
function armor(limit: LimitName, n: number) {
  return {
    n,
    exposeLimits: true,
    propagateOnRejection: false,
    onAccept: [],
    onReject: [(ctx: ValidationContext | null, err: GraphQLError) => ctx?.reportError(tooComplex(limit, found(err), n))],
  };
}

/** Top-level fields of each operation, fragments flattened; `__typename` is free. */
export function rootFieldsRule(max: number): ValidationRule {
  return (ctx) => {
    const count = (set: SelectionSetNode, seen: Set<string>): number => {
      let n = 0;
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) n += sel.name.value === '__typename' ? 0 : 1;
        else if (sel.kind === Kind.INLINE_FRAGMENT) n += count(sel.selectionSet, seen);
        else if (!seen.has(sel.name.value)) {
          seen.add(sel.name.value);
          const fragment = ctx.getFragment(sel.name.value);
          if (fragment) n += count(fragment.selectionSet, seen);
        }
      }
      return n;
    };
    return {
      OperationDefinition(node) {
        const n = count(node.selectionSet, new Set());
        if (n > max) ctx.reportError(tooComplex('rootFields', n, max));
      },
    };
  };
}

export const noSubscriptions: ValidationRule = (ctx) => ({
  OperationDefinition(node) {
    if (node.operation === 'subscription') ctx.reportError(subscriptionsNotServed());
  },
});

export function staticRules(limits: StaticLimits): ValidationRule[] {
  return [
    noSubscriptions,
    maxDepthRule({ ...armor('depth', limits.depth), flattenFragments: true, ignoreIntrospection: true }) as unknown as ValidationRule,
    maxAliasesRule(armor('aliases', limits.aliases)) as unknown as ValidationRule,
    maxDirectivesRule(armor('directives', limits.directives)) as unknown as ValidationRule,
    rootFieldsRule(limits.rootFields),
  ];
}
