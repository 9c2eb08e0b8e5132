import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
import{a as i}from"./chunk-Y37DG4NE.mjs";import"./chunk-2PYAGR7Y.mjs";var r=65536;function d(s,a,o="origin"){return{async openDraft(e){let n=await s.run(["push","--porcelain",o,`refs/heads/${e.head}:refs/heads/${e.head}`],{allowFail:!0});if(n.code!==0)return{notOpened:`the branch did not reach ${o}: ${(n.stderr||n.stdout).trim().split(`
`).at(-1)}`,failed:!0};let l=e.body.length>r?`${e.body.slice(0,r-200)}

(cut at GitHub's limit: the whole evidence is in the candidates file)`:e.body;try{return{url:(await a.openDraftPullRequest({title:e.title,head:e.head,base:e.base,body:l,labels:e.labels})).url}}catch(t){if(t instanceof i)return{notOpened:`the branch is on ${o}, but GitHub did not open the pull request: ${t.message}`,failed:!0};throw t}}}}export{d as forgePullRequests};
