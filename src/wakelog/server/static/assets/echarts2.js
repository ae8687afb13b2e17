import{u as a,f as s,g as l,h as i,j as n,a as t,b as $,c as m,d as o,k as b,l as c,m as f,n as r,o as u}from"./echarts.js";a([s,l,i,n,t,$,m,o,b,c,f,r,u]);
