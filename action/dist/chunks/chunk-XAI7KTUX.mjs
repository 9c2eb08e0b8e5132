import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
import{b as h,c,d as l,e as m}from"./chunk-SV3M47DI.mjs";import{b as p}from"./chunk-AKQG65DF.mjs";var f=`You are the worker of G7 Factory, a file-driven work factory.
Rules:
- Answer with one JSON value that matches the response schema exactly. No prose outside it.
- You are stateless: use only what this request contains. Do not assume files you were not shown.
- Never invent quotes: a quote must appear verbatim in the input.
- When unsure, say so in the answer's own fields (e.g. verdict "unclear"), never by leaving the schema.`;function d(e){return Math.ceil(e.length/4)}function a(e,s){let i=s*4;return e.length<=i?e:`${e.slice(0,i)}
[\u2026 ${e.length-i} characters cut to fit the input budget]`}function k(e,s){let i=e.skill?`${f}

Skill for this kind of work:
${e.skill}`:f,t=e.task,n=[`Card: ${e.card} (${t.kind})`];if(t.kind==="TAG")n.push(`Taxonomy (tags you may use; mark strike when a tag with strike: true applies):
${JSON.stringify(t.taxonomy.tags)}`),n.push(`Chunk ${t.chunk.path} bytes ${t.chunk.offset}+${t.chunk.length}:
${a(t.chunk.text,s)}`);else if(t.kind==="STRIKE")n.push(`Sensor checklist:
${JSON.stringify(t.sensors)}`),n.push(`Strike item: ${JSON.stringify(t.item)}`),n.push(`Text:
${a(t.text,s)}`);else{n.push(`Goal: ${t.goal}`),n.push(`You may only write these paths: create ${JSON.stringify(t.allowed.create)}, modify ${JSON.stringify(t.allowed.modify)}`),n.push(`Forbidden: ${JSON.stringify(t.forbidden)}`);let r=s;for(let u of t.files){let o=a(u.content,Math.max(64,r));r-=d(o),n.push(`File ${u.path}:
${o}`)}n.push("Answer with whole-file contents for each path you change.")}return e.previous_failure&&n.push(`This is the one rework attempt. The first attempt failed:
${a(e.previous_failure,2e3)}
Fix exactly that.`),{system:i,user:n.join(`

`)}}var g="finishReason MAX_TOKENS",y=8192;function w(e,s){let i=k(s,e.maxInputTokens),t=(e.maxOutputTokens??2048)*(s.previous_failure?.includes(g)?4:1),n=e.thinkingBudget?.[s.cost_hint],r=t+(n===void 0||n<0?y:n),u=e.models[s.cost_hint],o=l(c(i.system),c(i.user));return o[3]=1,{model:u,kind:s.task.kind,contents:[{role:"user",parts:[{text:i.user}]}],config:{systemInstruction:i.system,responseMimeType:"application/json",responseJsonSchema:p[s.task.kind],temperature:0,maxOutputTokens:r,...n===void 0?{}:{thinkingConfig:{thinkingBudget:n}}},estIn:e.tokens?e.tokens.estimate(u,o):m(h,o),profile:o,maxOut:r}}export{g as a,w as b};
