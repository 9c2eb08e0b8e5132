import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
import{createRequire as n}from"node:module";import t from"node:path";var r;function m(e){r=e}function u(e){return r?t.join(r,t.basename(e)):n(import.meta.url).resolve(e)}export{m as a,u as b};
