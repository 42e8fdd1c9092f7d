import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from './support/gateway.js'

const CHROMIUM = process.env.CONDUIT_CHROMIUM ?? '/usr/bin/chromium'
const artifacts = fileURLToPath(new URL('../test-artifacts/', import.meta.url))

let gateway: TestGateway

beforeAll(async () => {
  gateway = await startTestGateway()
})
afterAll(() => gateway.stop())

describe('GET /docs in headless Chromium', () => {
  it('renders every operation from assets served by the gateway alone', { timeout: 60_000 }, async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}. Install it with packages/http/scripts/ensure-chromium.sh (or set CONDUIT_CHROMIUM).`,
      )
    }
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    })
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } })
      const origin = new URL(gateway.served.url).origin
      const foreignRequests: string[] = []
      // Offline proof: anything not served by the gateway is recorded and refused.
      await page.route('**/*', (route) => {
        const url = route.request().url()
        if (url.startsWith(origin) || url.startsWith('data:')) return route.continue()
        foreignRequests.push(url)
        return route.abort()
      })
      const consoleErrors: string[] = []
      page.on('console', (message) => {
        if (message.type() === 'error') consoleErrors.push(message.text())
      })
      page.on('pageerror', (error) => consoleErrors.push(error.message))

      const response = await page.goto(`${gateway.served.url}/docs`)
      expect(response?.status()).toBe(200)
      expect(response?.headers()['content-security-policy']).toContain("script-src 'self'")
      await page.locator('.opblock').first().waitFor({ timeout: 30_000 })

      await expect.poll(() => page.locator('.opblock').count()).toBe(11)
      const summaries = await page.locator('.opblock-summary-path').allInnerTexts()
      expect(summaries.map((text) => text.replace(/\u200b/g, ''))).toContain('/api/v1/user/users/{userId}')
      await expect
        .poll(() => page.locator('.opblock-tag').allInnerTexts())
        .toEqual(
          expect.arrayContaining([expect.stringContaining('user'), expect.stringContaining('billing')]),
        )
      expect(await page.locator('.info .title').textContent()).toContain('Conduit test API')
      expect(await page.locator('.btn.authorize').count()).toBe(1)

      await mkdir(artifacts, { recursive: true })
      await page.screenshot({ path: `${artifacts}docs-page.png`, fullPage: true })
      expect(foreignRequests).toEqual([])
      expect(consoleErrors).toEqual([])
    } finally {
      await browser.close()
    }
  })
})
