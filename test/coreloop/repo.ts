// A git repository for the coreloop tests, with its own identity (the suite's git configuration is empty).
import { Git } from '../../src/git/git.js';

export async function initRepo(root: string): Promise<Git> {
  const git = new Git(root);
  await git.run(['init', '-q', '-b', 'main']);
  await git.run(['config', 'user.name', 'A Person']);
  await git.run(['config', 'user.email', 'person@example.com']);
  return git;
}
