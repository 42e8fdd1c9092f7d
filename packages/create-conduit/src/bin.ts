#!/usr/bin/env node
import { createConduit } from './index.js'

await createConduit()
