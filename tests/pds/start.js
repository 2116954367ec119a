// A local AT Protocol network for Roster's Bluesky tests: a PLC directory and one PDS (no App View).
//
//   node start.js [--pds-port N] [--plc-port N]     (or PDS_PORT / PLC_PORT in the environment)
//
// A port of 0, or none, lets the system pick a free one. Once both services answer, one JSON line
// goes to stdout: {"pds": "http://localhost:...", "plc": "http://localhost:..."}. SIGTERM or SIGINT
// closes the network, and so does the end of stdin: a test run that dies leaves no PDS behind.
// The PDS keeps its accounts and blobs under the system's temporary folder (set TMPDIR to choose it).
'use strict'

const { TestNetworkNoAppView } = require('@atproto/dev-env')

function port(flag, variable) {
  const at = process.argv.indexOf(flag)
  const value = at >= 0 ? process.argv[at + 1] : process.env[variable]
  const number = Number(value || 0)
  if (!Number.isInteger(number) || number < 0 || number > 65535) {
    throw new Error(`${flag} / ${variable} must be a port number, not ${value}`)
  }
  return number
}

// dev-env picks a free port for a service given none; a key set to undefined would override that.
function listening(options, number) {
  return number ? { ...options, port: number } : options
}

async function main() {
  const network = await TestNetworkNoAppView.create({
    pds: listening({ hostname: 'localhost' }, port('--pds-port', 'PDS_PORT')),
    plc: listening({}, port('--plc-port', 'PLC_PORT')),
  })
  let closing = null
  const close = () => {
    closing = closing || network.close().then(
      () => process.exit(0),
      (error) => { console.error(error); process.exit(1) },
    )
    return closing
  }
  process.on('SIGTERM', close)
  process.on('SIGINT', close)
  process.stdin.on('end', close)
  process.stdin.on('error', close)
  process.stdin.resume()
  process.stdout.write(JSON.stringify({ pds: network.pds.url, plc: network.plc.url }) + '\n')
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
