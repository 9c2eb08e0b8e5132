import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
import{b as l,c,d as m,e as h}from"./chunk-SV3M47DI.mjs";import{b as p}from"./chunk-JP6CGZH2.mjs";var R={TAG:"2",STRIKE:"1",PATCH:"1"},k=`You are the worker of G7 Factory, a file-driven work factory.
Rules:
- Answer with one JSON value that matches the response schema exactly. No prose outside it.
- You are stateless: use only what this request contains. Do not assume files you were not shown.
- Never invent quotes: a quote must appear verbatim in the input.
- When unsure, say so in the answer's own fields (e.g. verdict "unclear"), never by leaving the schema.`;function d(e){return Math.ceil(e.length/4)}function a(e,s){let i=s*4;return e.length<=i?e:`${e.slice(0,i)}
[\u2026 ${e.length-i} characters cut to fit the input budget]`}function f(e,s){let i=e.skill?`${k}

Skill for this kind of work:
${e.skill}`:k,n=e.task,t=n.kind==="TAG"?[]:[`Card: ${e.card} (${n.kind})`];if(n.kind==="TAG")t.push(`Taxonomy (tags you may use; mark strike when a tag with strike: true applies):
${JSON.stringify(n.taxonomy.tags)}`),t.push(`Chunk (${n.chunk.length} bytes):
${a(n.chunk.text,s)}`);else if(n.kind==="STRIKE")t.push(`Sensor checklist:
${JSON.stringify(n.sensors)}`),t.push(`Strike item: ${JSON.stringify(n.item)}`),t.push(`Text:
${a(n.text,s)}`);else{t.push(`Goal: ${n.goal}`),t.push(`You may only write these paths: create ${JSON.stringify(n.allowed.create)}, modify ${JSON.stringify(n.allowed.modify)}`),t.push(`Forbidden: ${JSON.stringify(n.forbidden)}`);let r=s;for(let u of n.files){let o=a(u.content,Math.max(64,r));r-=d(o),t.push(`File ${u.path}:
${o}`)}t.push("Answer with whole-file contents for each path you change.")}return e.previous_failure&&t.push(`This is the one rework attempt. The first attempt failed:
${a(e.previous_failure,2e3)}
Fix exactly that.`),{system:i,user:t.join(`

`)}}var g="finishReason MAX_TOKENS",y=8192;function w(e,s){let i=f(s,e.maxInputTokens),n=(e.maxOutputTokens??2048)*(s.previous_failure?.includes(g)?4:1),t=e.thinkingBudget?.[s.cost_hint],r=n+(t===void 0||t<0?y:t),u=e.models[s.cost_hint],o=m(c(i.system),c(i.user));return o[3]=1,{model:u,kind:s.task.kind,contents:[{role:"user",parts:[{text:i.user}]}],config:{systemInstruction:i.system,responseMimeType:"application/json",responseJsonSchema:p[s.task.kind],temperature:0,maxOutputTokens:r,...t===void 0?{}:{thinkingConfig:{thinkingBudget:t}}},estIn:e.tokens?e.tokens.estimate(u,o):h(l,o),profile:o,maxOut:r}}export{R as a,g as b,w as c};
