// How factory.yaml names a skill: a Markdown file, or `file.py::symbol` / `file.ts::symbol` for a docstring in
// code. Read by the config check here in ssot/, by the card runner and by coreloop's skill editing above it.

export interface SkillTarget {
  /** As written: `ssot/skills/TAG.md`, `src/engine/strike.py::Strike.evaluate`. */
  spec: string;
  /** Repository-relative path of the file. */
  file: string;
  symbol?: string | undefined;
}

export function parseTarget(spec: string): SkillTarget {
  const i = spec.indexOf('::');
  const file = (i < 0 ? spec : spec.slice(0, i)).trim();
  const symbol = i < 0 ? undefined : spec.slice(i + 2).trim() || undefined;
  return { spec, file, symbol };
}
