import { generateAsyncApi } from '@conduit/asyncapi'
import type { Command } from 'commander'
import { BRIDGE_NAMES, bridgeFor } from '../bridges.js'
import { loadDefinitions } from '../definitions.js'
import { writeDocument } from '../output.js'

interface AsyncApiFlags {
  bridge: string
  prefix?: string
  output?: string
  title?: string
  apiVersion?: string
}

export function registerAsyncApiCommand(program: Command): void {
  program
    .command('asyncapi')
    .description("write an AsyncAPI 3.0 document of the definitions' commands and events on a bridge")
    .argument('<modules...>', 'definitions modules (.ts or .js) exporting service and event definitions')
    .requiredOption('--bridge <bridge>', `${BRIDGE_NAMES.join(', ')}, or a module exporting a bridge`)
    .option(
      '--prefix <prefix>',
      "the bridge's prefix (subjects, exchanges and queues, topics); default: the bridge's",
    )
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .option('--title <title>', 'info.title', 'Conduit API')
    .option('--api-version <version>', 'info.version', '1.0.0')
    .action(async (modules: string[], flags: AsyncApiFlags) => {
      const { services, events } = await loadDefinitions(modules)
      const bridge = await bridgeFor(flags.bridge, flags.prefix)
      const document = generateAsyncApi({
        services,
        events,
        bridge,
        info: {
          ...(flags.title === undefined ? {} : { title: flags.title }),
          ...(flags.apiVersion === undefined ? {} : { version: flags.apiVersion }),
        },
      })
      await writeDocument(document, flags.output)
    })
}
