import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
function o(r){try{return process.kill(r,0),!0}catch(e){return e.code==="EPERM"}}export{o as a};
