// Package js holds @latchkey/client compiled to ES modules (dist/, built
// by tsc and committed), so that the web app embedded in the binary runs
// the very code the npm package ships: the token handling exists once.
package js

import "embed"

// Dist is the compiled package: dist/*.js, without the .d.ts files.
//
//go:embed dist/*.js
var Dist embed.FS
