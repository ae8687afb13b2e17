import{u as a,g as s,h as l,j as i,k as n,a as t,b as $,c as m,d as o,l as b,m as c,n as p,o as r,p as u}from"./echarts.js";a([s,l,i,n,t,$,m,o,b,c,p,r,u]);
