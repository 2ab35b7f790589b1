/**
 * The outbox's migrations, in order: every database with an outbox (each subgraph's, the
 * gateway's identity database, the consent database) runs all of them.
 */
import { CreateOutbox1764230400000 } from './1764230400000-create-outbox';
import { OutboxTraceparent1796169600000 } from './1796169600000-outbox-traceparent';

export const OUTBOX_MIGRATIONS = [CreateOutbox1764230400000, OutboxTraceparent1796169600000];
