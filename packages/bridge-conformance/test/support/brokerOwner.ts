// A test worker stand-in: starts a private nats-server, prints its pid and folder, then either
// waits to be killed (`wait`) or exits without disposing it (`exit`).
import { PrivateNatsServer } from '../../src/privateBrokers/brokers.js'

const broker = await PrivateNatsServer.start()
process.stdout.write(`${JSON.stringify({ pid: broker.pid, folder: broker.folderPath })}\n`)
if (process.argv[2] === 'exit') process.exit(3)
setInterval(() => undefined, 60_000)
