import 'reflect-metadata';
import { runSubgraphProcess } from '../kit/server';
import { researchSubgraph } from './definition';

runSubgraphProcess(researchSubgraph);
