import {
  type AnyEventDefinition,
  type AnySubscriptionDefinition,
  assertCapabilities,
  type BridgeCapabilities,
  type CapabilityName,
  consumerGroupOf,
  isConduitError,
  requiredCapabilities,
  type ServiceDefinition,
} from '@conduit/core'
import { buildRouteTable, defaultRoutePath } from '@conduit/http'
import type { Command } from 'commander'
import { BRIDGE_NAMES, bridgeFor } from '../bridges.js'
import { loadDefinitions } from '../definitions.js'
import { routePrefix } from '../output.js'

interface InspectFlags {
  bridge?: string
  prefix?: string
  routePrefix: string
}

/** Commands need request/reply; every other need comes from `requiredCapabilities`, as in start(). */
const COMMAND_NEEDS: CapabilityName[] = ['requestReply']

export function registerInspectCommand(program: Command): void {
  program
    .command('inspect')
    .description('print services, commands, events and subscriptions, and whether a bridge can run them')
    .argument('<modules...>', 'definitions modules (.ts or .js) exporting service definitions')
    .option('--bridge <bridge>', `check against ${BRIDGE_NAMES.join(', ')}, or a module exporting a bridge`)
    .option('--prefix <prefix>', "the bridge's prefix")
    .option('--route-prefix <prefix>', "the gateway's route prefix, for the HTTP routes shown", '/api')
    .action(async (modules: string[], flags: InspectFlags) => {
      const { services, events } = await loadDefinitions(modules)
      const out = (line = '') => process.stdout.write(`${line}\n`)
      for (const line of describe(services, events, routePrefix(flags.routePrefix))) out(line)
      if (flags.bridge === undefined) return
      const bridge = await bridgeFor(flags.bridge, flags.prefix)
      const gaps = capabilityGaps(services, bridge.name, bridge.capabilities)
      out()
      if (gaps.length === 0) {
        out(`bridge ${bridge.name}: can run every command and subscription above`)
        return
      }
      process.stderr.write(`bridge ${bridge.name}: cannot run ${gaps.length} of them\n`)
      for (const gap of gaps) process.stderr.write(`  ${gap}\n`)
      process.exitCode = 1
    })
}

function describe(
  services: readonly ServiceDefinition<any>[],
  exportedEvents: readonly AnyEventDefinition[],
  prefix: string,
): string[] {
  const lines: string[] = []
  const routes = new Map(
    buildRouteTable(services, { prefix, publicByDefault: false, routePath: defaultRoutePath }).map(
      (route) => [route.command, route],
    ),
  )
  for (const service of services) {
    lines.push(`${service.name} v${service.version}${service.description ? `: ${service.description}` : ''}`)
    lines.push('  commands:')
    if (service.commands.length === 0) lines.push('    (none)')
    for (const command of service.commands) {
      const route = routes.get(command)
      const http = route
        ? `${route.method} ${route.path}${route.isPublic ? ' (public)' : ''}`
        : 'no HTTP route'
      lines.push(`    ${command.name}: ${http}; needs ${COMMAND_NEEDS.join(', ')}`)
    }
    const emitted = new Set<string>()
    for (const handler of [...service.commands, ...service.subscriptions]) {
      for (const event of handler.emits) emitted.add(`${event.name} (from ${handler.name})`)
      if (handler.kind === 'subscription' && handler.output)
        emitted.add(`${handler.output.name} (from ${handler.name})`)
    }
    lines.push(`  events emitted: ${emitted.size === 0 ? '(none)' : [...emitted].join(', ')}`)
    lines.push('  subscriptions:')
    if (service.subscriptions.length === 0) lines.push('    (none)')
    for (const subscription of service.subscriptions) lines.push(`    ${subscriptionLine(subscription)}`)
  }
  const loose = exportedEvents.map((event) => event.name)
  if (loose.length > 0) lines.push(`events exported: ${loose.join(', ')}`)
  return lines
}

function subscriptionLine(subscription: AnySubscriptionDefinition): string {
  const { filter } = subscription
  const filters = [
    filter.sender ? `sender ${JSON.stringify(filter.sender)}` : undefined,
    filter.principalId === undefined ? undefined : `principal ${filter.principalId}`,
    filter.tenantId === undefined ? undefined : `tenant ${filter.tenantId}`,
  ].filter((part) => part !== undefined)
  const needs = requiredCapabilities(subscription)
  return [
    `${subscription.name}: on ${subscription.event}`,
    `delivery ${subscription.delivery}${subscription.delivery === 'durable' ? ` (maxAttempts ${subscription.maxAttempts})` : ''}`,
    subscription.everyInstance ? 'every instance' : `group ${consumerGroupOf(subscription)}`,
    `filters ${filters.length === 0 ? 'none' : filters.join(', ')}`,
    `needs ${needs.length === 0 ? 'nothing special' : needs.join(', ')}`,
  ].join('; ')
}

/**
 * The check ServiceInstance.start() makes (assertCapabilities over requiredCapabilities, with
 * the same subject), for every subscription, plus request/reply for commands; one message each.
 */
function capabilityGaps(
  services: readonly ServiceDefinition<any>[],
  bridgeName: string,
  capabilities: BridgeCapabilities,
): string[] {
  const gaps: string[] = []
  const check = (subject: string, needs: CapabilityName[]): void => {
    try {
      assertCapabilities(bridgeName, capabilities, subject, needs)
    } catch (error) {
      if (!isConduitError(error) || error.code !== 'CAPABILITY_MISSING') throw error
      gaps.push(error.message)
      // report every missing capability of this subject, not only the first
      const rest = needs.slice(needs.indexOf((error.data as { capability: CapabilityName }).capability) + 1)
      if (rest.length > 0) check(subject, rest)
    }
  }
  for (const service of services) {
    const label = `${service.name}.v${service.version}`
    for (const command of service.commands) check(`command ${label}.${command.name}`, COMMAND_NEEDS)
    for (const subscription of service.subscriptions) {
      check(`subscription ${label}.${subscription.name}`, requiredCapabilities(subscription))
    }
  }
  return gaps
}
