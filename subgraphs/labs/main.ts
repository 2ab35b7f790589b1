import 'reflect-metadata';
import { runSubgraphProcess } from '../kit/server';
import { labsSubgraph } from './definition';

runSubgraphProcess(labsSubgraph);
