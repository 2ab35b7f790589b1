import 'reflect-metadata';
import { runSubgraphProcess } from '../kit/server';
import { devicesSubgraph } from './definition';

runSubgraphProcess(devicesSubgraph);
