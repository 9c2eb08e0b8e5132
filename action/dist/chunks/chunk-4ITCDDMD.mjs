import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
var m=["Summary","When","How","Args","Returns","Guide","Caveats","Verified","Examples"];function p(n,t,r,i){let s=[],o=t,u=0;for(;o<=r;){let e=n.indexOf(`
`,o);(e===-1||e>=r)&&(e=-1);let f=e===-1?r:e>o&&n.charCodeAt(e-1)===13?e-1:e,a=e===-1?r:e+1,c=n.slice(o,f),l=Math.min(i(c,u),c.length);if(s.push({start:o,contentStart:o+l,end:f,next:a,text:c.slice(l)}),e===-1)break;o=a,u++}return s}function x(n,t){for(let i of t)if(i.next>i.end)return n.slice(i.end,i.next);let r=n.indexOf(`
`);return r>0&&n[r-1]==="\r"?`\r
`:`
`}function g(n,t,r){let i=[],s,o=r?{name:"Summary",known:!0,header:-1,first:0,last:0}:void 0,u=e=>{o&&(o.last=e,i.push(o))};for(let e=0;e<n.length;e++){let f=n[e].text.trim(),a=/^(```|~~~)/.exec(f)?.[1];if(a){s?a===s&&(s=void 0):s=a;continue}if(s)continue;let c=t(n[e],e);c!==void 0&&(u(e),o={name:c,known:m.includes(c),header:e,first:e+1,last:e+1})}return u(n.length),i.filter(e=>!(e.header===-1&&e.first===e.last))}function b(n,t){let r=n.slice(t.first,t.last).map(i=>i.text);if(t.header>=0){let i=n[t.header].text.trim().replace(/^(##\s+\S+|@\w+|[A-Za-z ]+:)\s*/,"");i&&r.unshift(i)}return r.join(`
`).trim()}function h(n,t){for(let r=t.last-1;r>=t.first;r--)if(n[r].text.trim()!=="")return r;return t.header>=0?t.header:t.first}function S(n){let t=0;for(let r of n)t++;return t}var d=class extends Error{constructor(r,i,s,o){super(i);this.rule=r;this.hint=s;this.line=o;this.name="LocateError"}rule;hint;line};function y(n,t){let r=1;for(let i=n.indexOf(`
`);i!==-1&&i<t;i=n.indexOf(`
`,i+1))r++;return r}export{m as a,p as b,x as c,g as d,b as e,h as f,S as g,d as h,y as i};
