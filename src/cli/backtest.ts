#!/usr/bin/env node
import { main } from './backtest-command.js';

process.exitCode = await main(process.argv.slice(2));
