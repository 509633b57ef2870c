/** @type {import('next').NextConfig} */
export default {
  // libSQL ships a native binary per platform: load it from node_modules, do not bundle it.
  serverExternalPackages: ["@libsql/client", "@libsql/kysely-libsql", "libsql"],
  // `next dev` would otherwise write an AGENTS.md into the example.
  agentRules: false,
  experimental: { agentUpgrade: false },
};
