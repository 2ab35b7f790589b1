import 'reflect-metadata';
import { runSubgraphProcess } from '../kit/server';
import { patientsSubgraph } from './definition';

runSubgraphProcess(patientsSubgraph);
