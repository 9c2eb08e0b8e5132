import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
var e;function o(){if(e===void 0){let n=process.env.G7_NOW?Date.parse(process.env.G7_NOW):NaN;e=Number.isFinite(n)?n-Date.now():0}return e}var t=()=>Date.now()+o(),s=()=>new Date(t()).toISOString(),r=()=>new Date(t());export{t as a,s as b,r as c};
