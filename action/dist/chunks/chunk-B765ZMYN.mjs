import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
import o from"node:path";import{readFile as n}from"node:fs/promises";var s=(e,r)=>o.join(e.stateDir,`forecast_${r}.json`);async function u(e,r){return n(s(e,r),"utf8").then(t=>JSON.parse(t),()=>{})}export{s as a,u as b};
