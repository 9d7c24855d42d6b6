export { createAppsDouble, type AppsDouble, type AppsDoubleOptions } from './apps-double';
