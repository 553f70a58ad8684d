#!/usr/bin/env node
// The backtester's entry point: like src/main.ts, it may wire a concrete piece (the candle store, loaded lazily).
import { loadStoredCandles } from '../composition/stored-candles.js';
import { main } from './backtest-command.js';

process.exitCode = await main(process.argv.slice(2), loadStoredCandles);
