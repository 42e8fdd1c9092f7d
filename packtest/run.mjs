// The pack test: `node packtest/run.mjs` (plain Node, no dependencies).
//
// Installs Conduit the way a user would and checks that it works, on every Node line below:
//   1. packs every published package of packages/* with pnpm (its prepack builds it), into a
//      folder under os.tmpdir(), outside the workspace;
//   2. installs the tarballs with plain npm into a new project, with zod, @opentelemetry/api,
//      typescript, @types/node and esbuild at the versions the workspace locks;
//   3. per Node line: type-checks the app in app/ (two services, user and email, as in
//      DESIGN.md) with `tsc --strict`, moduleResolution nodenext and no skipLibCheck, compiles it,
//      runs it with plain `node` on the memory bridge, on NATS, and with the user service's state
//      in Redis and in PostgreSQL, and checks its JSON result;
//      runs the installed `conduit` bin (--version; create --no-install from the tarballs, its
//      src type-checked; inspect, openapi and asyncapi --bridge nats on the app's definitions);
//      type-checks and bundles two Lambda functions with plain esbuild (ESM, node20, minified, no
//      plugins) into a folder with no node_modules, loads each bundle with plain `node` and
//      invokes it with an API Gateway v2 (HTTP API) event and an SQS event.
// Prints a summary (per Node line, tarball sizes, bundle sizes, cold starts) and exits non-zero
// when anything failed, saying what and where. PACKTEST_KEEP=1 keeps the temporary folder.
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The Node lines the pack test runs on, in this one place: `current` is the node running this
 * script, anything else is an npm package spec of the `node` package, run through `npx -y`.
 * PACKTEST_NODES=current,node@24 overrides it (e.g. to run one line per CI job).
 */
const NODE_LINES = process.env.PACKTEST_NODES?.split(',').filter(Boolean) ?? ['current', 'node@22', 'node@24']

/** Packages the new project installs beside the tarballs, at the workspace's locked versions. */
const COMPANIONS = ['zod', '@opentelemetry/api', 'typescript', '@types/node', 'esbuild']
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'
const USERS = 20
/** Each bundle is loaded this many times per Node line; the cold start reported is the median. */
const LAMBDA_RUNS = 3

const here = dirname(fileURLToPath(import.meta.url))
const workspace = resolve(here, '..')
const started = performance.now()
const failures = []
const notes = []

const log = (line) => process.stdout.write(`packtest: ${line}\n`)
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`
const tail = (text, lines = 25) => text.trim().split('\n').slice(-lines).join('\n')
function fail(where, what) {
  failures.push({ where, what })
  log(`FAIL ${where}: ${what.split('\n')[0]}`)
}

/** Runs a program to completion and collects its output; never throws. */
function run(command, args, { cwd = workspace, env = {}, timeoutMs = 120_000 } = {}) {
  const begun = performance.now()
  return new Promise((done) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs} ms)`
      child.kill('SIGKILL')
    }, timeoutMs)
    child.on('error', (error) => {
      stderr += `\n${error.message}`
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      done({ code: code ?? signal, stdout, stderr, ms: performance.now() - begun })
    })
  })
}

/** The object a child printed as `PACKTEST_RESULT {...}`, or undefined. */
function resultOf(stdout) {
  const line = stdout.split('\n').findLast((candidate) => candidate.startsWith('PACKTEST_RESULT '))
  return line ? JSON.parse(line.slice('PACKTEST_RESULT '.length)) : undefined
}

/** The JSON log lines (pino) a child printed. */
function logsOf(stdout) {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line)]
      } catch {
        return []
      }
    })
}

/** What a failed child said: the end of its output, without minified source lines and carets. */
const output = ({ stdout, stderr }) =>
  tail(
    `${stderr}\n${stdout}`
      .split('\n')
      .filter((line) => !/^\s*\^+\s*$/.test(line) && line.length < 1000)
      .join('\n'),
  )

/** Compares and records a failure; true when equal (as JSON). */
function check(where, what, actual, expected) {
  if (JSON.stringify(actual) === JSON.stringify(expected)) return true
  fail(where, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`)
  return false
}

function natsReachable(url) {
  const { hostname, port } = new URL(url)
  return new Promise((done) => {
    const socket = createConnection({ host: hostname, port: Number(port || 4222) })
    socket.setTimeout(2000)
    socket.on('connect', () => done(socket.end() && true))
    socket.on('timeout', () => done(socket.destroy() && false))
    socket.on('error', () => done(false))
  })
}

/** The version the workspace's lockfile resolves for a package (the highest, if several). */
function lockedVersion(lockfile, name) {
  const escaped = name.replace(/[/.@]/g, (c) => `\\${c}`)
  const pattern = new RegExp(`^  '?${escaped}@(\\d+\\.\\d+\\.\\d+[^':(]*)'?:`, 'gm')
  const versions = [...lockfile.matchAll(pattern)].map((match) => match[1])
  const key = (version) => version.split(/[.-]/).map((part) => part.padStart(8, '0'))
  return versions.sort((a, b) => (key(a).join('.') < key(b).join('.') ? -1 : 1)).at(-1)
}

/** Every file target of an `exports` map (conditions and subpaths flattened). */
function exportTargets(value, path = '') {
  if (typeof value === 'string') return [[path || '.', value]]
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([key, inner]) => exportTargets(inner, path ? `${path} ${key}` : key))
}

function filesUnder(directory, base = directory) {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name)
    return entry.isDirectory() ? filesUnder(path, base) : [relative(base, path)]
  })
}

/** Checks an installed package as npm unpacked it from its tarball. */
function checkInstalledPackage(name, directory) {
  const where = `tarball ${name}`
  const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8'))
  const problems = []
  const entries = manifest.exports ? exportTargets(manifest.exports) : []
  if (entries.length === 0) problems.push('no "exports" map')
  for (const [subpath, target] of entries) {
    if (/\.[cm]?ts$/.test(target) && !/\.d\.[cm]?ts$/.test(target)) {
      problems.push(`exports ${subpath} → ${target} (TypeScript source: plain node cannot load it)`)
    } else if (!existsSync(join(directory, target))) {
      problems.push(`exports ${subpath} → ${target}, which is not in the tarball`)
    }
  }
  for (const field of ['main', 'types', 'module']) {
    if (manifest[field] && !existsSync(join(directory, manifest[field]))) {
      problems.push(`"${field}": ${manifest[field]} is not in the tarball`)
    }
  }
  const files = filesUnder(directory)
  const testFiles = files.filter((file) =>
    /(^|[\\/])(test|tests|__tests__)[\\/]|\.test\.[cm]?[jt]sx?$|(^|[\\/])vitest\.config\./.test(file),
  )
  if (testFiles.length > 0) {
    const shown = testFiles.slice(0, 4).join(', ')
    problems.push(`ships ${testFiles.length} test files (${shown}${testFiles.length > 4 ? ', ...' : ''})`)
  }
  for (const problem of problems) fail(where, problem)
  return { files: files.length, problems: problems.length }
}

/** The node binary of a Node line, and its version. */
async function resolveNode(line, cwd) {
  if (line === 'current') return { line, bin: process.execPath, version: process.version }
  const resolved = await run('npx', ['-y', line, '-p', 'process.execPath + " " + process.version'], {
    cwd,
    timeoutMs: 180_000,
  })
  const [bin, version] = resolved.stdout.trim().split('\n').at(-1)?.split(' ') ?? []
  if (resolved.code !== 0 || !bin || !version) {
    fail(`${line}`, `npx -y ${line} did not give a node binary (exit ${resolved.code}):\n${output(resolved)}`)
    return undefined
  }
  return { line, bin, version }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

// ---------------------------------------------------------------------------------------------

const root = await mkdtemp(join(tmpdir(), 'conduit-packtest-'))
if (!relative(workspace, root).startsWith('..')) throw new Error(`${root} is inside the workspace`)
const tarballs = join(root, 'tarballs')
const project = join(root, 'project')
const bundles = join(root, 'bundles')
const lambda = join(root, 'lambda')
await Promise.all([tarballs, project, bundles, lambda].map((dir) => mkdir(dir)))
log(`working in ${root}; Node lines: ${NODE_LINES.join(', ')}`)

// 1. Pack (and, meanwhile, fetch the Node lines and look for NATS).
const packages = readdirSync(join(workspace, 'packages'))
  .map((folder) => join(workspace, 'packages', folder, 'package.json'))
  .filter((file) => existsSync(file))
  .map((file) => ({ dir: dirname(file), ...JSON.parse(readFileSync(file, 'utf8')) }))
  .filter((manifest) => !manifest.private)
const filters = packages.flatMap((manifest) => ['--filter', manifest.name])
// PACKTEST_TARBALLS=<dir>: install tarballs packed already (`check:packages --out <dir>`, in CI)
// instead of packing again.
const prepacked = process.env.PACKTEST_TARBALLS
const packing = prepacked
  ? cp(prepacked, tarballs, { recursive: true }).then(() => ({ code: 0, stdout: '', stderr: '', ms: 0 }))
  : run('npx', ['-y', 'pnpm@10', '-r', ...filters, 'pack', '--pack-destination', tarballs], {
      timeoutMs: 300_000,
    })
const [packed, nodes, natsUp] = await Promise.all([
  packing,
  Promise.all(NODE_LINES.map((line) => resolveNode(line, root))),
  natsReachable(NATS_URL),
])
const tarballOf = new Map()
for (const manifest of packages) {
  const file = `${manifest.name.replace(/^@/, '').replace('/', '-')}-${manifest.version}.tgz`
  if (existsSync(join(tarballs, file))) tarballOf.set(manifest.name, join(tarballs, file))
  else fail(`pack ${manifest.name}`, `no tarball ${file}`)
}
if (packed.code !== 0) fail('pack', `pnpm -r pack exited with ${packed.code}:\n${output(packed)}`)
log(
  prepacked
    ? `took ${tarballOf.size} of ${packages.length} tarballs from ${prepacked}`
    : `packed ${tarballOf.size} of ${packages.length} packages in ${seconds(packed.ms)}`,
)
if (!natsUp) fail('nats', `nothing listens at ${NATS_URL} (start it with: bash scripts/ensure-brokers.sh)`)

// 2. Install into a new npm project.
const lockfile = readFileSync(join(workspace, 'pnpm-lock.yaml'), 'utf8')
const companions = COMPANIONS.map((name) => {
  const version = lockedVersion(lockfile, name)
  if (!version) fail('install', `pnpm-lock.yaml resolves no version of ${name}`)
  return version ? `${name}@${version}` : name
})
await writeFile(
  join(project, 'package.json'),
  `${JSON.stringify({ name: 'conduit-packtest-app', private: true, type: 'module' }, null, 2)}\n`,
)
const installed = await run(
  'npm',
  ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballOf.values(), ...companions],
  { cwd: project, timeoutMs: 300_000 },
)
if (installed.code !== 0) fail('install', `npm install exited with ${installed.code}:\n${output(installed)}`)
// npm's EBADENGINE warnings span several lines: one note per package.
for (const [, body] of installed.stderr.matchAll(/EBADENGINE Unsupported engine \{([^}]*\}[^}]*)\}/g)) {
  const field = (name) => body.match(new RegExp(`${name}: (.*)`))?.[1]?.replace(/,$/, '')
  notes.push(
    `npm install: EBADENGINE ${field('package')} requires ${field('required')}, npm ran on ${process.version}`,
  )
}
for (const line of installed.stderr.split('\n').filter((text) => /ERESOLVE|peer dep/i.test(text))) {
  notes.push(`npm install: ${line.trim()}`)
}
log(`npm install ${[...tarballOf.keys(), ...companions].join(' ')}: ${seconds(installed.ms)}`)

const tarballReport = []
for (const [name, file] of tarballOf) {
  const directory = join(project, 'node_modules', ...name.split('/'))
  const contents = existsSync(directory) ? checkInstalledPackage(name, directory) : undefined
  tarballReport.push({ name, bytes: statSync(file).size, files: contents?.files })
}

// The app, its build script, the Lambda driver and fixtures (the driver and the bundles sit
// outside the project: nothing but the bundle can be resolved from there).
await cp(join(here, 'app'), project, { recursive: true })
await cp(join(here, 'lambda'), lambda, { recursive: true })
// The README's "Use it in your own project" main.ts, compiled and run as the README says.
const readmeMain = /<!-- packtest: main\.ts[^>]*-->\s*```ts\n([\s\S]*?)```/.exec(
  readFileSync(join(workspace, 'README.md'), 'utf8'),
)?.[1]
if (!readmeMain)
  fail('README', 'no `<!-- packtest: main.ts -->` block followed by a ts code block in README.md')
for (let dir = bundles; dir !== dirname(dir); dir = dirname(dir)) {
  if (existsSync(join(dir, 'node_modules'))) fail('bundles', `${dir}/node_modules exists above the bundles`)
}

// 3. Per Node line: type-check, compile, run, bundle (lines in parallel).
const tsc = join(project, 'node_modules', 'typescript', 'bin', 'tsc')
const lines = nodes.filter(Boolean)
const steps = new Map(lines.map((node) => [node.line, []]))
function step(node, name, ok, ms, detail = '') {
  steps.get(node.line).push({ name, ok, ms, detail })
}

function checkApp(where, result, mode) {
  if (!result) return fail(where, 'the app printed no PACKTEST_RESULT line')
  const ok = [
    check(where, 'bridge', result.bridge, mode === 'nats' ? 'nats' : 'memory'),
    check(where, 'user state store', result.userStore, mode === 'nats' ? 'memory' : mode),
    check(where, 'users registered', result.registered, USERS),
    check(where, 'welcome mails', result.mails, USERS),
    check(where, 'users mailed', result.mailedUsers, USERS),
    check(where, 'getUser read the user back', result.readBack, true),
    check(where, 'getUser of an unknown id', result.notFound, {
      name: 'HandledError',
      conduitError: true,
      handledError: true,
      validationError: false,
      status: 404,
      code: 'NOT_FOUND',
    }),
    check(where, 'registerNewUser with bad input', result.invalid, {
      name: 'ValidationError',
      conduitError: true,
      handledError: false,
      validationError: true,
      status: 400,
      code: 'VALIDATION_FAILED',
    }),
  ]
  return ok.every(Boolean)
}

/** `conduit inspect` of the app's two services, line by line. */
const INSPECT_LINES = [
  'user v1',
  '  commands:',
  '    registerNewUser: POST /api/v1/user/users (public); needs requestReply',
  '    getUser: GET /api/v1/user/users/:userId (public); needs requestReply',
  '  events emitted: user.registered (from registerNewUser)',
  '  subscriptions:',
  '    (none)',
  'email v1',
  '  commands:',
  '    (none)',
  '  events emitted: (none)',
  '  subscriptions:',
  '    sendWelcomeMail: on user.registered; delivery durable (maxAttempts 5); group email.v1.sendWelcomeMail; filters none; needs durable',
  'events exported: user.registered',
]

/** The files `conduit create --bridge memory` (gateway on, Lambda off) must write, among others. */
const CREATED_FILES = [
  '.gitignore',
  'README.md',
  'package.json',
  'tsconfig.json',
  'vitest.config.ts',
  'src/main.ts',
  'src/app.ts',
  'src/bridge.ts',
  'src/gateway.ts',
  'src/services/index.ts',
  'src/services/definitions.ts',
  'src/services/user/contract.ts',
  'src/services/user/service.ts',
  'src/services/user/commands/registerNewUser.test.ts',
  'src/services/user/subscriptions/sendWelcomeMail.test.ts',
  'test/app.test.ts',
  'test/gateway.test.ts',
]

const parseJson = (text) => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/**
 * The installed `conduit` bin (node_modules/.bin/conduit, as npm linked it), run with this Node
 * line's node: --version, create (no install: its @conduit dependencies point at the tarballs),
 * inspect, openapi and asyncapi on the app's definitions (TypeScript, loaded by the CLI's tsx).
 */
async function checkCli(node) {
  const where = (what) => `${node.version} ${what}`
  const bin = join(project, 'node_modules', '.bin', 'conduit')
  if (!existsSync(bin)) {
    fail(where('conduit'), `npm linked no conduit bin (${relative(project, bin)} is missing)`)
    step(node, 'conduit', false, 0, 'no bin')
    return
  }
  const conduit = (...args) => run(node.bin, [bin, ...args], { cwd: project, env: { NO_COLOR: '1' } })
  const definitions = ['src/app/user.ts', 'src/app/email.ts']
  const out = join(project, 'cli', node.version)
  await mkdir(out, { recursive: true })
  const exited = (what, ran) => {
    if (ran.code === 0) return true
    fail(where(`conduit ${what}`), `exit ${ran.code}:\n${output(ran)}`)
    return false
  }

  const version = await conduit('--version')
  const cliManifest = JSON.parse(
    readFileSync(join(project, 'node_modules', '@conduit', 'cli', 'package.json'), 'utf8'),
  )
  const versionOk =
    exited('--version', version) &&
    check(where('conduit --version'), 'printed version', version.stdout.trim(), cliManifest.version)
  step(node, 'conduit --version', versionOk, version.ms)

  // create: no install (no network); the @conduit packages come from the tarballs
  const created = join(out, 'proj')
  const create = await conduit(
    'create',
    created,
    '--bridge',
    'memory',
    '--package-manager',
    'npm',
    '--no-install',
    '--conduit-version',
    `file:${tarballs}`,
  )
  let createOk = exited('create', create)
  let createMs = create.ms
  if (createOk) {
    const at = where('conduit create')
    const before = failures.length
    check(
      at,
      'report',
      create.stdout.split('\n')[0],
      `Created proj in ${relative(project, created)} (memory bridge, HTTP gateway)`,
    )
    const missing = CREATED_FILES.filter((file) => !existsSync(join(created, file)))
    check(at, 'files missing from the project', missing, [])
    check(
      at,
      'node_modules in the project (--no-install installs nothing)',
      existsSync(join(created, 'node_modules')),
      false,
    )
    const manifest = parseJson(readFileSync(join(created, 'package.json'), 'utf8')) ?? {}
    // the @conduit packages it imports, each with its own @conduit dependencies (http needs
    // asyncapi), every one from its tarball
    const dependencies = Object.entries(manifest.dependencies ?? {})
    const conduitSpecs = Object.fromEntries(dependencies.filter(([name]) => name.startsWith('@conduit/')))
    check(
      at,
      'other dependencies',
      dependencies.map(([name]) => name).filter((name) => !(name in conduitSpecs)),
      ['@opentelemetry/api', 'zod'],
    )
    check(
      at,
      'imports @conduit/core and @conduit/http',
      ['@conduit/core', '@conduit/http'].every((name) => name in conduitSpecs),
      true,
    )
    for (const [name, spec] of Object.entries(conduitSpecs)) {
      check(at, `${name} points at its tarball`, spec, `file:${tarballOf.get(name)}`)
    }
    // its sources type-check against the installed packages (its tests need vitest: not installed here)
    await writeFile(
      join(created, 'tsconfig.packtest.json'),
      JSON.stringify({ extends: './tsconfig.json', include: ['src'], exclude: ['src/**/*.test.ts'] }),
    )
    const typecheck = await run(node.bin, [tsc, '-p', 'tsconfig.packtest.json'], { cwd: created })
    createMs += typecheck.ms
    if (typecheck.code !== 0)
      fail(at, `tsc on the created project's src/ exited with ${typecheck.code}:\n${output(typecheck)}`)
    createOk = failures.length === before
  }
  step(node, 'conduit create + tsc', createOk, createMs)

  const inspect = await conduit('inspect', ...definitions)
  const inspectOk =
    exited('inspect', inspect) &&
    check(where('conduit inspect'), 'output', inspect.stdout.trimEnd().split('\n'), INSPECT_LINES)
  step(node, 'conduit inspect', inspectOk, inspect.ms)

  // openapi into a file (-o), asyncapi to stdout
  const openapiFile = join(out, 'openapi.json')
  const openapi = await conduit('openapi', ...definitions, '-o', openapiFile)
  let openapiOk = exited('openapi', openapi)
  if (openapiOk) {
    const at = where('conduit openapi')
    const document = existsSync(openapiFile) ? parseJson(readFileSync(openapiFile, 'utf8')) : undefined
    const methods = Object.fromEntries(
      Object.entries(document?.paths ?? {}).map(([path, item]) => [path, Object.keys(item).sort()]),
    )
    openapiOk = [
      check(at, 'OpenAPI version', document?.openapi, '3.1.0'),
      check(at, 'paths and their methods', methods, {
        '/api/v1/user/users': ['post'],
        '/api/v1/user/users/{userId}': ['get'],
      }),
    ].every(Boolean)
  }
  step(node, 'conduit openapi', openapiOk, openapi.ms)

  const asyncapi = await conduit('asyncapi', ...definitions, '--bridge', 'nats')
  let asyncapiOk = exited('asyncapi', asyncapi)
  if (asyncapiOk) {
    const at = where('conduit asyncapi --bridge nats')
    const document = parseJson(asyncapi.stdout)
    const addresses = Object.fromEntries(
      Object.entries(document?.channels ?? {}).map(([name, channel]) => [name, channel.address]),
    )
    const actions = Object.fromEntries(
      Object.entries(document?.operations ?? {}).map(([name, operation]) => [name, operation.action]),
    )
    asyncapiOk = [
      check(at, 'AsyncAPI version', document?.asyncapi, '3.0.0'),
      check(at, 'channel addresses (NATS subjects)', addresses, {
        'event_user.registered': 'conduit.evt.user.registered',
        command_user_v1_registerNewUser: 'conduit.cmd.user.v1.registerNewUser',
        reply_user_v1_registerNewUser: null,
        command_user_v1_getUser: 'conduit.cmd.user.v1.getUser',
        reply_user_v1_getUser: null,
      }),
      check(at, 'operations', actions, {
        'emit_user.registered': 'send',
        user_v1_registerNewUser: 'send',
        user_v1_getUser: 'send',
        email_v1_sendWelcomeMail: 'receive',
      }),
    ].every(Boolean)
  }
  step(node, 'conduit asyncapi', asyncapiOk, asyncapi.ms)
}

async function perLine(node) {
  const where = (what) => `${node.version} ${what}`
  const env = { CONDUIT_LOG_LEVEL: 'warn', NATS_URL }
  const outDir = join('out', node.version)
  const [typecheck, lambdaTypecheck] = await Promise.all([
    run(node.bin, [tsc, '-p', 'tsconfig.json', '--strict', '--outDir', outDir], { cwd: project }),
    run(node.bin, [tsc, '-p', 'tsconfig.lambda.json', '--strict'], { cwd: project }),
  ])
  const compiled = typecheck.code === 0 || existsSync(join(project, outDir, 'main.js'))
  step(node, 'tsc app', typecheck.code === 0, typecheck.ms)
  if (typecheck.code !== 0) fail(where('tsc --strict (app)'), output(typecheck))
  step(node, 'tsc lambda', lambdaTypecheck.code === 0, lambdaTypecheck.ms)
  if (lambdaTypecheck.code !== 0) fail(where('tsc --strict (Lambda functions)'), output(lambdaTypecheck))

  for (const mode of ['memory', 'nats', 'redis', 'postgres']) {
    if (!compiled) {
      step(node, `run ${mode}`, false, 0, 'not compiled')
      continue
    }
    if (mode === 'nats' && !natsUp) {
      step(node, 'run nats', false, 0, 'no NATS')
      continue
    }
    const ran = await run(node.bin, [join(outDir, 'main.js'), mode, String(USERS)], { cwd: project, env })
    let ok = ran.code === 0
    if (!ok) fail(where(`node main.js ${mode}`), `exit ${ran.code}:\n${output(ran)}`)
    else ok = checkApp(where(`node main.js ${mode}`), resultOf(ran.stdout), mode) !== false
    step(node, `run ${mode}`, ok, ran.ms)
  }

  if (readmeMain) {
    const folder = join(project, 'readme', node.version)
    await mkdir(folder, { recursive: true })
    await writeFile(join(folder, 'main.ts'), readmeMain)
    const flags = ['--module', 'nodenext', '--target', 'es2022', '--strict']
    const compiledReadme = await run(node.bin, [tsc, ...flags, 'main.ts'], { cwd: folder })
    const ranReadme =
      compiledReadme.code === 0 ? await run(node.bin, ['main.js'], { cwd: folder, env }) : undefined
    const ok = ranReadme?.code === 0 && ranReadme.stdout.includes("{ greeting: 'Hello, Ada!' }")
    step(node, 'README main.ts', ok, compiledReadme.ms + (ranReadme?.ms ?? 0))
    if (!ok) fail(where('README main.ts (tsc, node main.js)'), output(ranReadme ?? compiledReadme))
  }

  await checkCli(node)

  const bundled = await run(node.bin, ['bundle.mjs', join(bundles, node.version)], { cwd: project })
  const built = bundled.code === 0 ? resultOf(bundled.stdout) : undefined
  step(node, 'esbuild', Boolean(built), bundled.ms)
  if (!built) fail(where('esbuild'), `exit ${bundled.code}:\n${output(bundled)}`)
  return built
}

const builds = await Promise.all(lines.map(perLine))

// 4. Load the bundles, one process at a time (the cold start is timed).
const lambdaReport = []
function checkHttp(where, result, logs) {
  const body = (response) => {
    try {
      return JSON.parse(response?.body ?? 'null')
    } catch {
      return response?.body
    }
  }
  const register = body(result.register)
  check(where, 'POST /api/v1/user/users status', result.register?.statusCode, 201)
  check(where, 'POST x-correlation-id', result.register?.headers?.['x-correlation-id'], 'packtest-register-1')
  check(where, 'POST returns a userId', typeof register?.userId, 'string')
  check(
    where,
    'GET /api/v1/user/users/:userId',
    [result.get?.statusCode, body(result.get)?.name],
    [200, 'Ada Lovelace'],
  )
  check(
    where,
    'POST with bad input',
    [result.invalid?.statusCode, body(result.invalid)?.code],
    [400, 'VALIDATION_FAILED'],
  )
  check(
    where,
    'GET /openapi.json',
    [result.openapi?.statusCode, Object.keys(body(result.openapi)?.paths ?? {})],
    [200, ['/api/v1/user/users', '/api/v1/user/users/{userId}']],
  )
  // A function that never serves /docs must not touch (or warn about) swagger-ui-dist.
  for (const entry of logs.filter((line) => line.level >= 40)) {
    fail(where, `logged at level ${entry.level}: ${JSON.stringify(entry).slice(0, 500)}`)
  }
}

function checkSqs(where, result, logs) {
  const [katherine, dorothy, malformed, bounce] = result.records ?? []
  const failed = (result.response?.batchItemFailures ?? []).map((item) => item.itemIdentifier).sort()
  check(where, 'batchItemFailures (the malformed record and the bounce)', failed, [malformed, bounce].sort())
  check(where, 'welcome mails sent', result.mails, ['dorothy@example.org', 'katherine@example.org'])
  if (!katherine || !dorothy) fail(where, 'the fixture has fewer records than expected')
  const bounced = logs.find((entry) => entry.err?.message?.includes('bounce@example.org'))
  if (!bounced) fail(where, 'no log line for the failing (bounce) record')
  else
    check(
      where,
      'logged error type of the failing record (after minification)',
      bounced.err.type,
      'HandledError',
    )
}

for (const [index, node] of lines.entries()) {
  const built = builds[index]
  if (!built) continue
  const sizes = {}
  for (const [file, bytes] of Object.entries(built.bundles)) sizes[file.split(/[\\/]/).at(-1)] = bytes
  for (const [kind, file, verify] of [
    ['http', 'user-function.mjs', checkHttp],
    ['sqs', 'email-function.mjs', checkSqs],
  ]) {
    const where = `${node.version} Lambda ${kind} (${file})`
    const bundle = join(bundles, node.version, file)
    const coldStarts = []
    let wallMs = 0
    let ok = true
    for (let attempt = 0; attempt < LAMBDA_RUNS && ok; attempt++) {
      const loaded = await run(node.bin, ['driver.mjs', kind, bundle, join(lambda, 'fixtures')], {
        cwd: lambda,
      })
      const result = resultOf(loaded.stdout)
      if (loaded.code !== 0 || !result) {
        fail(where, `exit ${loaded.code}:\n${output(loaded)}`)
        ok = false
        break
      }
      const before = failures.length
      verify(where, result, logsOf(loaded.stdout))
      ok = failures.length === before
      coldStarts.push(result.coldStartMs)
      wallMs = Math.max(wallMs, loaded.ms)
    }
    const coldStartMs = coldStarts.length > 0 ? median(coldStarts) : undefined
    step(node, `Lambda ${kind}`, ok, wallMs)
    lambdaReport.push({ node: node.version, kind, file, bytes: sizes[file], coldStartMs, ok })
  }
}

// 5. Summary.
const totalMs = performance.now() - started
const print = (line = '') => process.stdout.write(`${line}\n`)
print()
print('Tarballs (pnpm pack):')
for (const { name, bytes, files } of tarballReport) {
  print(`  ${name.padEnd(30)} ${String(bytes).padStart(8)} bytes  ${files ?? '?'} files`)
}
print()
print('Per Node line:')
for (const node of lines) {
  const cells = steps.get(node.line).map(({ name, ok, ms, detail }) => {
    const timing = ms ? ` ${seconds(ms)}` : ''
    return `${name} ${ok ? 'ok' : 'FAIL'}${detail ? ` (${detail})` : timing}`
  })
  print(`  ${node.version.padEnd(9)} ${cells.join(' | ')}`)
}
if (lambdaReport.length > 0) {
  print()
  print(
    `Lambda bundles (esbuild, ESM, node20, minified; cold start = process start to first response, median of ${LAMBDA_RUNS}):`,
  )
  for (const { node, file, bytes, coldStartMs, ok } of lambdaReport) {
    const cold = coldStartMs === undefined ? '-' : `${Math.round(coldStartMs)} ms`
    print(
      `  ${node.padEnd(9)} ${file.padEnd(20)} ${String(bytes).padStart(9)} bytes  cold start ${cold.padStart(7)}  ${ok ? 'ok' : 'FAIL'}`,
    )
  }
}
if (notes.length > 0) {
  print()
  print('Notes:')
  for (const note of notes) print(`  ${note}`)
}
if (failures.length > 0) {
  print()
  print(`Failures (${failures.length}):`)
  for (const { where, what } of failures) {
    print(`- ${where}:`)
    for (const line of what.split('\n')) print(`    ${line}`)
  }
}
print()
const versions = lines.map((node) => node.version).join(', ')
if (failures.length === 0) {
  if (!process.env.PACKTEST_KEEP) await rm(root, { recursive: true, force: true })
  print(`packtest: PASS on ${versions}; ${tarballOf.size} packages; ${seconds(totalMs)}`)
} else {
  const places = [...new Set(failures.map(({ where }) => where))]
  print(
    `packtest: FAIL (${failures.length} failures in: ${places.join('; ')}) on ${versions}; ${seconds(totalMs)}`,
  )
  print(`packtest: kept ${root} for inspection`)
  process.exitCode = 1
}
