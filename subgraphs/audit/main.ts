import 'reflect-metadata';
import { runSubgraphProcess } from '../kit/server';
import { auditSubgraph } from './definition';

runSubgraphProcess(auditSubgraph);
