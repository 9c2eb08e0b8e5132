// Making a forge from what an entry point knows: a token, the repository, the API URL. Octokit is loaded
// only here, only when a command needs GitHub.
import { ForgeError, parseRepository, type Forge } from './forge.js';

export interface ForgeSettings {
  /** owner/name (GITHUB_REPOSITORY on a runner; from the origin remote elsewhere). */
  repository: string | undefined;
  /** GITHUB_TOKEN, an App installation token or a PAT. */
  token: string | undefined;
  /** GITHUB_API_URL; default https://api.github.com. */
  apiUrl?: string | undefined;
}

export async function connectForge(s: ForgeSettings): Promise<Forge> {
  if (!s.repository) throw new ForgeError('connect', 0, 'no repository: on a runner GITHUB_REPOSITORY names it; elsewhere an origin remote on GitHub', undefined);
  if (!s.token) throw new ForgeError('connect', 0, 'no token', 'set GITHUB_TOKEN (a workflow token, the factory App\'s installation token or a PAT)');
  const { OctokitForge } = await import('./octokit.js');
  return new OctokitForge({ repo: parseRepository(s.repository), token: s.token, ...(s.apiUrl ? { baseUrl: s.apiUrl } : {}) });
}

/** The settings a `g7` command on a person's machine or in a workflow `run:` step has (coreloop promote). */
export function forgeSettingsFromEnv(env: NodeJS.ProcessEnv, originUrl: string | undefined): ForgeSettings {
  return {
    repository: env.GITHUB_REPOSITORY || (originUrl ? repositoryOfRemote(originUrl) : undefined),
    token: env.GITHUB_TOKEN || env.GH_TOKEN || undefined,
    apiUrl: env.GITHUB_API_URL || undefined,
  };
}

/** owner/name of a GitHub remote URL (https or ssh), or undefined. */
export function repositoryOfRemote(url: string): string | undefined {
  return /github\.com[:/]([\w.-]+\/[\w.-]+?)(?:\.git)?\/?$/.exec(url.trim())?.[1];
}
