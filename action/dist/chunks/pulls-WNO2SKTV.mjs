import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
import{a as s}from"./chunk-NE4UAEYD.mjs";import"./chunk-2PYAGR7Y.mjs";var i=65536;function d(r,a,o="origin"){return{async openDraft(e){let n=await r.run(["push","--porcelain",o,`refs/heads/${e.head}:refs/heads/${e.head}`],{allowFail:!0});if(n.code!==0)return{notOpened:`the branch did not reach ${o}: ${(n.stderr||n.stdout).trim().split(`
`).at(-1)}`};let l=e.body.length>i?`${e.body.slice(0,i-200)}

(cut at GitHub's limit: the whole evidence is in the candidates file)`:e.body;try{return{url:(await a.openDraftPullRequest({title:e.title,head:e.head,base:e.base,body:l,labels:e.labels})).url}}catch(t){if(t instanceof s)return{notOpened:`the branch is on ${o}, but GitHub did not open the pull request: ${t.message}`};throw t}}}}export{d as forgePullRequests};
