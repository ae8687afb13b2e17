import{u as a,b as s,c as l,d as i,e as n,f as t,g as $,h as m,j as o,k as b,l as c,m as e,n as f,o as r}from"./echarts.js";a([s,l,i,n,t,$,m,o,b,c,e,f,r]);
