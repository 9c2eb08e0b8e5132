import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
var p={TAG:"2",STRIKE:"1",PATCH:"1"},a=`You are the worker of G7 Factory, a file-driven work factory.
Rules:
- Answer with one JSON value that matches the response schema exactly. No prose outside it.
- You are stateless: use only what this request contains. Do not assume files you were not shown.
- Never invent quotes: a quote must appear verbatim in the input.
- When unsure, say so in the answer's own fields (e.g. verdict "unclear"), never by leaving the schema.`;function u(t){return Math.ceil(t.length/4)}function h(t,r){let s=r*4;return t.length<=s?{body:t}:{body:`${t.slice(0,s)}
[\u2026 ${t.length-s} characters cut to fit the input budget]`,cutAt:s}}var o=(t,r)=>h(t,r).body,c="Answer with one edit per path you change. For a file you were shown, give changes: each a search text copied verbatim from the file (enough whole lines to match exactly once) and the text that replaces it, in file order. Give content (the whole file) only for a file you create, or a file shown whole that you rewrite entirely.";function l(t,r){let s=r;return t.map(e=>{let n=h(e.content,Math.max(64,s));return s-=u(n.body),{path:e.path,...n}})}function f(t,r){let s=t.skill?`${a}

Skill for this kind of work:
${t.skill}`:a,e=t.task,n=e.kind==="TAG"?[]:[`Card: ${t.card} (${e.kind})`];if(e.kind==="TAG")n.push(`Taxonomy (tags you may use; mark strike when a tag with strike: true applies):
${JSON.stringify(e.taxonomy.tags)}`),n.push(`Chunk (${e.chunk.length} bytes):
${o(e.chunk.text,r)}`);else if(e.kind==="STRIKE")n.push(`Sensor checklist:
${JSON.stringify(e.sensors)}`),n.push(`Strike item: ${JSON.stringify(e.item)}`),n.push(`Text:
${o(e.text,r)}`);else{n.push(`Goal: ${e.goal}`),n.push(`You may only write these paths: create ${JSON.stringify(e.allowed.create)}, modify ${JSON.stringify(e.allowed.modify)}`),n.push(`Forbidden: ${JSON.stringify(e.forbidden)}`);for(let i of l(e.files,r))n.push(`File ${i.path}${i.cutAt===void 0?"":" (shown cut: answer with changes only)"}:
${i.body}`);n.push(c)}return t.previous_failure&&n.push(`This is the one rework attempt. The first attempt failed:
${o(t.previous_failure,2e3)}
Fix exactly that.`),{system:s,user:n.join(`

`)}}export{p as a,l as b,f as c};
