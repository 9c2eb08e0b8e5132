import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
var E={OK:0,INTERNAL:1,USAGE:2,INVALID_INPUT:3,FAIL_STOP:4,RECOVERABLE:5,REFUSED:6,BUSY:7,UNPUSHED:8,OVER_BUDGET:9,CANCELLED:130};export{E as a};
