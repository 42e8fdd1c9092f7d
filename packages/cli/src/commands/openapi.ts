import { buildOpenApiDocument, buildRouteTable, defaultRoutePath } from '@conduit/http'
import type { Command } from 'commander'
import { loadDefinitions } from '../definitions.js'
import { routePrefix, writeDocument } from '../output.js'

interface OpenApiFlags {
  output?: string
  routePrefix: string
  public?: boolean
  title?: string
  apiVersion?: string
}

export function registerOpenApiCommand(program: Command): void {
  program
    .command('openapi')
    .description('write the OpenAPI 3.1 document the HTTP gateway serves for these definitions')
    .argument('<modules...>', 'definitions modules (.ts or .js) exporting service definitions')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .option('--route-prefix <prefix>', "the gateway's route prefix (createGateway `prefix`)", '/api')
    .option('--public', 'endpoints without http.public are public too (createGateway `publicByDefault`)')
    .option('--title <title>', 'info.title', 'Conduit API')
    .option('--api-version <version>', 'info.version', '1.0.0')
    .action(async (modules: string[], flags: OpenApiFlags) => {
      const { services } = await loadDefinitions(modules)
      // the same route table and generator createGateway uses for /openapi.json
      const routes = buildRouteTable(services, {
        prefix: routePrefix(flags.routePrefix),
        publicByDefault: flags.public ?? false,
        routePath: defaultRoutePath,
      })
      const document = await buildOpenApiDocument(services, routes, {
        ...(flags.title === undefined ? {} : { title: flags.title }),
        ...(flags.apiVersion === undefined ? {} : { version: flags.apiVersion }),
      })
      await writeDocument(document, flags.output)
    })
}
