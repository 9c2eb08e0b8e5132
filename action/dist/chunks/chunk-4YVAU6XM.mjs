import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
function r(i){let n=i.indexOf("::"),e=(n<0?i:i.slice(0,n)).trim(),t=n<0?void 0:i.slice(n+2).trim()||void 0;return{spec:i,file:e,symbol:t}}export{r as a};
