import { readFileSync } from 'node:fs'
import { sendWelcomeMail } from '@conduit/example-monolith/email/definition'
import { describe, expect, it } from 'vitest'
import { parse, type Tags } from 'yaml'

// template.yaml must agree with the code: handlers that exist, a Makefile target per function,
// the queue's retries matching the subscription, and the rule routing its event to the queue.
const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8')
const intrinsic = (tag: string, name: string) => ({
  tag,
  resolve: (value: unknown) => ({ [name]: value }),
  collection: undefined,
})
const customTags: Tags = ['!Ref', '!GetAtt', '!Sub'].map((tag) =>
  intrinsic(tag, tag === '!Ref' ? 'Ref' : `Fn::${tag.slice(1)}`),
) as unknown as Tags
const template = parse(read('template.yaml'), { customTags }) as {
  Resources: Record<string, { Type: string; Metadata?: { BuildMethod?: string }; Properties: any }>
}
const resources = template.Resources
const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Serverless::Function')

describe('template.yaml', () => {
  it('declares the two functions with handlers that exist and a Makefile target each', async () => {
    expect(functions.map(([name]) => name).sort()).toEqual(['EmailFunction', 'UserFunction'])
    const makefile = read('Makefile')
    for (const [name, resource] of functions) {
      const [file, exported] = resource.Properties.Handler.split('.')
      const module = (await import(`../src/${file}.ts`)) as Record<string, unknown>
      expect(typeof module[exported], `${file}.${exported}`).toBe('function')
      expect(resource.Metadata?.BuildMethod).toBe('makefile')
      expect(makefile).toContain(`build-${name}:`)
      expect(makefile).toContain(`dist/${file}.mjs`)
    }
  })

  it('serves the user function behind the HTTP API and lets it put events on the bus', () => {
    const user = resources.UserFunction!.Properties
    expect(user.Events.Api).toMatchObject({
      Type: 'HttpApi',
      Properties: { Path: '/{proxy+}', Method: 'ANY' },
    })
    expect(user.Environment.Variables.CONDUIT_EVENT_BUS).toEqual({ Ref: 'ConduitEventBus' })
    expect(user.Policies).toContainEqual({
      EventBridgePutEventsPolicy: { EventBusName: { Ref: 'ConduitEventBus' } },
    })
  })

  it('routes user.registered through a rule and a queue to the email function, with partial batch failures', () => {
    const rule = resources.UserRegisteredRule!.Properties
    expect(rule.EventPattern['detail-type']).toEqual([sendWelcomeMail.event])
    expect(rule.Targets).toEqual([{ Id: 'email-queue', Arn: { 'Fn::GetAtt': 'EmailQueue.Arn' } }])
    const queue = resources.EmailQueue!.Properties
    expect(queue.RedrivePolicy.maxReceiveCount).toBe(sendWelcomeMail.maxAttempts)
    expect(resources.EmailFunction!.Properties.Events.Queue).toEqual({
      Type: 'SQS',
      Properties: {
        Queue: { 'Fn::GetAtt': 'EmailQueue.Arn' },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
    })
  })
})
