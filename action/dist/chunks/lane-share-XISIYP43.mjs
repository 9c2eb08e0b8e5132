import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
import"./chunk-2PYAGR7Y.mjs";function u(r,e,m){let t=Math.max(1,e);return{rpm:Math.max(1,Math.floor(r.limits.rpm/t)),tpm:Math.max(1,Math.floor(r.limits.tpm/t)),per_truck_usd:r.budget.per_truck_usd/t,per_night_usd:Math.max(0,r.budget.per_night_usd-m)/t}}export{u as laneShare};
