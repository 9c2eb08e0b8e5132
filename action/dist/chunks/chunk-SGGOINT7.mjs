import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
var n;function o(){if(n===void 0){let e=process.env.G7_NOW?Date.parse(process.env.G7_NOW):NaN;n=Number.isFinite(e)?e-Date.now():0}return n}var t=()=>{let e=o();return Date.now()+e},s=()=>new Date(t()).toISOString(),r=()=>new Date(t());export{t as a,s as b,r as c};
