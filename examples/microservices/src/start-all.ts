import { ServiceProcess } from './processes.js'

// Starts the example as microservices: two user-service processes, two email-service processes
// and the HTTP gateway, all over the broker from CONDUIT_BRIDGE (default nats). Ctrl+C stops all.
const env = { CONDUIT_BRIDGE: process.env.CONDUIT_BRIDGE ?? 'nats' }
const processes = [
  new ServiceProcess('user-1', 'user-process', env),
  new ServiceProcess('user-2', 'user-process', env),
  new ServiceProcess('email-1', 'email-process', env),
  new ServiceProcess('email-2', 'email-process', env),
  new ServiceProcess('gateway', 'gateway-process', env),
]
await Promise.all(processes.map((child) => child.ready))
console.info(
  `microservices ready over ${env.CONDUIT_BRIDGE}; gateway on http://127.0.0.1:${process.env.PORT ?? 3000}/docs`,
)
const stopAll = async () => {
  await Promise.all(processes.map((child) => child.stop()))
  process.exit(0)
}
process.once('SIGINT', stopAll)
process.once('SIGTERM', stopAll)
